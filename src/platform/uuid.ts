import { z } from "zod";

/** Built once: a zod schema costs more to build than to run, and ids are checked on hot paths (every Twilio delivery). */
const UUID = z.uuid();

/** Whether `value` is a UUID (what our ids are): anything else names no row. */
export const isUuid = (value: unknown): value is string => UUID.safeParse(value).success;
