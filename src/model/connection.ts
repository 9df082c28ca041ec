/** Where a role's connection to its coordinator stands, as every page shows it. */
export type ConnectionState = 'off' | 'starting' | 'connecting' | 'connected' | 'error';
