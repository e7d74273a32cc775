/**
 * Where a connect's Ed25519 signature is checked: on the event loop, or on libuv's thread pool.
 *
 * The check is about a fifth of the gateway's CPU per paired handshake. Under concurrent connects
 * the event loop is the gateway's bound, and the pool runs the check on the other core meanwhile;
 * alone, the hop to a pool thread and back only adds latency. So a connect is checked inline when
 * it is the only one the gateway is working on, and on the pool when others are in flight
 * (bench/README.md, "The verify off the event loop", has the figures for each choice).
 */
import type { KeyObject } from "node:crypto";
import { verifyPayload, verifyPayloadOffLoop } from "../identity/keys.js";

/**
 * Checks one signature (base64url or base64) over a UTF-8 payload: the answer at once, or a
 * promise of it when the check runs off the event loop. Never throws; a malformed signature is
 * `false`.
 */
export type SignatureCheck = (
  key: KeyObject,
  payload: string,
  signature: string,
) => boolean | Promise<boolean>;

/** Chooses, per connect, how its signatures are checked. */
export interface SignatureLanes {
  /**
   * The check for one connect's signatures: v3, and v2 when v3 fails, go the same way. A connect
   * that checks no signature (no device, or a proof refused before its signature) never calls it.
   */
  forConnect(): SignatureCheck;
  /**
   * A connection sent its challenge and waits for its connect; {@link SignatureLanes.settled} once
   * it is admitted or closed. Lanes that do not count connections leave both out.
   */
  challenged?(): void;
  settled?(): void;
}

/** Every signature checked on the event loop, at once (`gatehouse explain`, the in-process bench). */
export const INLINE_SIGNATURES: SignatureLanes = { forConnect: () => verifyPayload };

/**
 * Inline while the gateway has no other connect in hand; on the thread pool when a check is on the
 * pool already, another connect was checked inline in this turn of the event loop (several
 * connect frames arrived together: a burst the loop cannot keep up with alone), or another
 * connection is between its challenge and its answer (its connect is on the way: checked inline,
 * this one would hold it up). The lane is chosen when a connect's first signature is checked, so
 * connects without one leave the choice alone.
 */
export function adaptiveSignatureLanes(): SignatureLanes {
  let onPool = 0;
  let inlineThisTurn = false;
  // Connections challenged and not yet admitted or closed, the one asking included.
  let waiting = 0;
  const endTurn = () => {
    inlineThisTurn = false;
  };
  const pooled: SignatureCheck = (key, payload, signature) => {
    onPool++;
    return verifyPayloadOffLoop(key, payload, signature).finally(() => onPool--);
  };
  const choose = (): SignatureCheck => {
    if (onPool > 0 || inlineThisTurn || waiting > 1) return pooled;
    inlineThisTurn = true;
    setImmediate(endTurn);
    return verifyPayload;
  };
  return {
    forConnect() {
      let lane: SignatureCheck | null = null;
      return (key, payload, signature) => (lane ??= choose())(key, payload, signature);
    },
    challenged() {
      waiting++;
    },
    settled() {
      waiting--;
    },
  };
}
