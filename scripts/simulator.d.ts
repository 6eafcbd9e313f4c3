// Types of scripts/simulator.js for the tests that drive calls with it.
export interface SimulatedCall {
  readonly callSid: string;
  /** The dial targets the current <Dial> rings (empty when nobody was available). */
  readonly ringing: string[];
  answer(target?: string): Promise<void>;
  hangUp(talkSec?: number): Promise<void>;
  miss(opts?: { message?: boolean }): Promise<void>;
  abandon(): Promise<void>;
}

export class Simulator {
  constructor(opts: { url: string; publicUrl?: string; authToken: string; accountSid?: string; delayMs?: number });
  post(target: string, params: Record<string, string>): Promise<string>;
  incoming(from: string, opts?: { to?: string; name?: string }): Promise<SimulatedCall>;
}

export function parseTwiml(xml: string): {
  dial?: { targets: string[]; action: string | undefined };
  voicemail?: { recordingCallback: string | undefined; action: string | undefined };
};
