import type { EstablishedHosts } from '../model/host.js';
export interface IsolationPolicy {
  /** Share of the known hosts (0..1] that must go silent together. */
  share: number;
  /** ...and at least this many: a homelab losing three of five hosts is not hbd's own network. */
  minHosts: number;
  /** "Together": within this span, ms (the grace period). */
  windowMs: number;
}

/**
 * Tells when so many hosts went silent at once that the likelier story is hbd's own network
 * (or machine) failing, not all of them: then one "hbd may be isolated" message beats
 * thousands of "down" ones that would all be wrong.
 */
export class IsolationGuard {
  #policy: IsolationPolicy;
  #silencedAt: number[] = [];
  #isolated = false;

  constructor(policy: IsolationPolicy) {
    this.#policy = policy;
  }

  get windowMs(): number {
    return this.#policy.windowMs;
  }

  /** A new window (the grace changed on reload); silences already counted are judged by it from now on. */
  setWindowMs(windowMs: number): void {
    this.#policy = { ...this.#policy, windowMs };
  }

  get isolated(): boolean {
    return this.#isolated;
  }

  /** The number of hosts that must go silent within the window to count as isolation. */
  threshold(knownHosts: number): number {
    return Math.max(this.#policy.minHosts, Math.ceil(this.#policy.share * knownHosts));
  }

  /** Counts a host going silent; true when this one tips hbd into isolation. */
  wentSilent(at: number, knownHosts: number): boolean {
    this.#silencedAt.push(at);
    const oldest = at - this.#policy.windowMs;
    let expired = 0;
    while (expired < this.#silencedAt.length && this.#silencedAt[expired]! < oldest) expired++;
    if (expired > 0) this.#silencedAt.splice(0, expired);
    if (this.#isolated || this.#silencedAt.length < this.threshold(knownHosts)) return false;
    this.#isolated = true;
    return true;
  }

  /** How many went silent within the window ending at the last one counted. */
  get recentlySilent(): number {
    return this.#silencedAt.length;
  }

  end(): void {
    this.#isolated = false;
    this.#silencedAt = [];
  }
}

/** A guard that has just tripped: what went silent, of how many. */
export interface Tripped {
  silent: number;
  known: number;
  /** Signed hosts alone went silent together. */
  signedOnly: boolean;
}

/**
 * Isolation judged twice: over every established host, and over the established signed ones alone.
 *
 * Under `auth: optional` anyone in `unsigned_networks` can make unsigned hosts, and with enough
 * patience established ones; they must never be able to keep a signed host's down from being
 * announced. So a signed host's messages are held only when signed hosts went silent together;
 * an unsigned host's are held when either guard has tripped (signed hosts going silent at once is
 * the strongest sign there is that hbd's own network failed). Without signed hosts (no keys, or
 * `auth: off`) this is the one guard over every established host.
 */
export class FleetIsolation {
  readonly #everyHost: IsolationGuard;
  readonly #signedHosts: IsolationGuard;
  #heardAny = false;
  #heardSigned = false;

  constructor(policy: IsolationPolicy) {
    this.#everyHost = new IsolationGuard(policy);
    this.#signedHosts = new IsolationGuard(policy);
  }

  get windowMs(): number {
    return this.#everyHost.windowMs;
  }

  setWindowMs(windowMs: number): void {
    this.#everyHost.setWindowMs(windowMs);
    this.#signedHosts.setWindowMs(windowMs);
  }

  get isolated(): boolean {
    return this.#everyHost.isolated || this.#signedHosts.isolated;
  }

  /** Whether a host's down messages are held now. */
  holds(signed: boolean): boolean {
    return signed ? this.#signedHosts.isolated : this.isolated;
  }

  /**
   * Counts an established host going silent; says so when this one tips hbd into isolation
   * (only the first time: while isolated, further trips are not news).
   */
  wentSilent(at: number, signed: boolean, known: EstablishedHosts): Tripped | undefined {
    const wasIsolated = this.isolated;
    const everyHostTripped = this.#everyHost.wentSilent(at, known.all);
    const signedTripped = signed && this.#signedHosts.wentSilent(at, known.signed);
    if (wasIsolated) return undefined;
    if (everyHostTripped) {
      return { silent: this.#everyHost.recentlySilent, known: known.all, signedOnly: false };
    }
    if (signedTripped) {
      return { silent: this.#signedHosts.recentlySilent, known: known.signed, signedOnly: true };
    }
    return undefined;
  }

  /** A host was heard again; `settle` then ends what it proves over. */
  heard(signed: boolean): void {
    this.#heardAny = true;
    if (signed) this.#heardSigned = true;
  }

  /**
   * Ends the guards that hosts heard since the last call prove wrong: any host for the guard over
   * every host, a signed one for the signed guard (an unsigned heartbeat can be anyone's).
   * True when hbd is no longer isolated at all.
   */
  settle(): boolean {
    if (this.#heardAny) this.#everyHost.end();
    if (this.#heardSigned) this.#signedHosts.end();
    this.#heardAny = false;
    this.#heardSigned = false;
    return !this.isolated;
  }
}
