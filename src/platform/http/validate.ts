import type { Request } from "express";
import type { z } from "zod";

/** Parses one part of a request with a schema; a ZodError becomes a 400 in the error handler. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  return schema.parse(value);
}

export const body = <S extends z.ZodType>(req: Request, schema: S): z.infer<S> => schema.parse(req.body ?? {});
export const query = <S extends z.ZodType>(req: Request, schema: S): z.infer<S> => schema.parse(req.query);
export const params = <S extends z.ZodType>(req: Request, schema: S): z.infer<S> => schema.parse(req.params);
