import type { AgentsService, DialableAgent } from "../../crm";
import { parsePhone } from "../../crm";

export const MAX_SIMULTANEOUS = 10;

export type RoutingDecision =
  | { action: "dial"; stage: "owner" | "all"; agents: DialableAgent[]; timeoutSec: number }
  | { action: "voicemail" }
  | { action: "message" }
  | { action: "hangup" };

export interface RoutingOptions {
  ownerRingSeconds: number;
  ringTimeoutSeconds: number;
  whenNobodyAnswers: "voicemail" | "message";
  defaultRegion: string;
}

/**
 * Who rings for an inbound call. Policy: if the caller's contact has an owner who is available,
 * the owner rings alone for ownerRingSeconds; then (or when there is no available owner) every
 * other available agent rings at once, at most 10, longest-idle first. Nobody available or
 * nobody answering ends in voicemail (or a short message), and the call counts as missed.
 */
export class CallRouter {
  constructor(
    private readonly agents: AgentsService,
    private readonly opts: RoutingOptions,
  ) {}

  async forIncomingCall(from: string): Promise<RoutingDecision> {
    const phone = parsePhone(from, this.opts.defaultRegion);
    // The owner, when available, is among the agents whoever else is free (they come first).
    const { agents: available, ownerId } = await this.agents.availableAgents(MAX_SIMULTANEOUS + 1, phone.kind === "number" ? phone.e164 : null);
    const owner = available.find((a) => a.userId === ownerId);
    if (owner && available.length > 1) return { action: "dial", stage: "owner", agents: [owner], timeoutSec: this.opts.ownerRingSeconds };
    return this.ringEveryone(available);
  }

  /** After a `<Dial>` ended: answered → hang up; the owner missed it → everyone else; else the fallback. */
  async afterDial(stage: string | undefined, answered: boolean, ownerId: string | undefined): Promise<RoutingDecision> {
    // "outbound": a click-to-call's customer leg ended (answered or not); the agent is told nothing more.
    if (answered || stage === "done" || stage === "outbound") return { action: "hangup" };
    if (stage === "owner") {
      const others = (await this.agents.availableAgents(MAX_SIMULTANEOUS + 1)).agents.filter((a) => a.userId !== ownerId);
      return this.ringEveryone(others);
    }
    return { action: this.opts.whenNobodyAnswers };
  }

  private ringEveryone(agents: DialableAgent[]): RoutingDecision {
    if (agents.length === 0) return { action: this.opts.whenNobodyAnswers };
    return { action: "dial", stage: "all", agents: agents.slice(0, MAX_SIMULTANEOUS), timeoutSec: this.opts.ringTimeoutSeconds };
  }
}
