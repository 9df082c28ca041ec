/** Where a role's connection to its coordinator stands, as every page shows it. */
export type ConnectionState = 'off' | 'starting' | 'connecting' | 'connected' | 'error';

/** What every role's page shows first: its network, how its connection stands, and why it failed. */
export interface RoleConnectionView {
  readonly state: ConnectionState;
  /** Why the role stopped or cannot connect, in words; null while it works. */
  readonly error: string | null;
  readonly networkId: string;
}
