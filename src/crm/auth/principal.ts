import type { UserRole } from "../entities/user.entity";

/** Who is calling: a signed-in user or an integration's API key. */
export interface Principal {
  kind: "user" | "api_key";
  id: string;
  role: UserRole;
  email?: string;
  name?: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      principal?: Principal;
    }
  }
}
