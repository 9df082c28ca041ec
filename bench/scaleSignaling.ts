/**
 * What the coordinator's signaling socket carries while volunteers join (bench/scale.ts): every
 * message the signaling server takes from the coordinator's id, by type, with its size as sent
 * (peer adds `src` after parsing; it is left out again), and whether the socket was dropped —
 * a coordinator relays an answer and its ICE candidates for every volunteer that joins, so its
 * socket carries N times what a volunteer's does ([K-8]).
 */
import type { EventEmitter } from 'node:events';
import type { IClient, IMessage } from 'peer';
import type { RunningServer } from '../server/app.ts';

export interface CoordinatorSignaling {
  /** Messages the coordinator's socket sent, by type (ANSWER, CANDIDATE, HEARTBEAT, ...). */
  readonly messages: Record<string, number>;
  /** Their bytes, by type. */
  readonly bytes: Record<string, number>;
  /** How often the coordinator's id was unregistered while the row ran (a drop, then peerjs' re-registration). */
  readonly disconnects: number;
  /** Sockets the server dropped while the row ran, by reason (any id: the bench's volunteers too). */
  readonly dropped: Record<string, number>;
}

export interface CoordinatorSignalingWatch {
  read(): CoordinatorSignaling;
  stop(): void;
}

export function watchCoordinatorSignaling(server: RunningServer, coordinatorId: string): CoordinatorSignalingWatch {
  const signaling = server.signaling;
  const droppedBefore = signaling.stats().droppedSockets;
  const messages: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  let disconnects = 0;
  const onMessage = (client: IClient, message: IMessage): void => {
    if (client.getId() !== coordinatorId) return;
    const type = String(message.type);
    messages[type] = (messages[type] ?? 0) + 1;
    bytes[type] = (bytes[type] ?? 0) + Buffer.byteLength(JSON.stringify({ ...message, src: undefined }));
  };
  const onDisconnect = (client: IClient): void => {
    if (client.getId() === coordinatorId) disconnects++;
  };
  signaling.events.on('message', onMessage);
  signaling.events.on('disconnect', onDisconnect);
  return {
    read: () => {
      const now = signaling.stats().droppedSockets;
      const dropped = Object.fromEntries(
        Object.entries(now)
          .map(([reason, count]) => [reason, count - (droppedBefore[reason] ?? 0)] as const)
          .filter(([, count]) => count > 0),
      );
      return { messages: { ...messages }, bytes: { ...bytes }, disconnects, dropped };
    },
    stop: () => {
      // PeerServerEvents types only `on`; the PeerServer is an EventEmitter.
      const emitter = signaling.events as unknown as EventEmitter;
      emitter.off('message', onMessage);
      emitter.off('disconnect', onDisconnect);
    },
  };
}
