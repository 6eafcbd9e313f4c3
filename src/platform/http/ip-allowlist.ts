import type { RequestHandler } from "express";
import ipaddr from "ipaddr.js";
import { AppError } from "../errors";

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** An address ("10.1.2.3", "::1") or a CIDR range ("10.0.0.0/8"). */
export function isIpOrCidr(value: string): boolean {
  const v = value.trim();
  return v.includes("/") ? ipaddr.isValidCIDR(v) : ipaddr.isValid(v);
}

function toRange(value: string): Range {
  const v = value.trim();
  if (v.includes("/")) return ipaddr.parseCIDR(v);
  const addr = ipaddr.parse(v);
  return [addr, addr.kind() === "ipv4" ? 32 : 128];
}

/**
 * Answers only clients whose address (req.ip, so TRUST_PROXY decides which hop counts) is in one
 * of the ranges. IPv4-mapped IPv6 addresses are compared as IPv4.
 */
export function ipAllowlist(values: string[]): RequestHandler {
  const ranges = values.map(toRange);
  return (req, _res, next) => {
    let addr: ipaddr.IPv4 | ipaddr.IPv6 | undefined;
    try {
      addr = req.ip ? ipaddr.process(req.ip) : undefined;
    } catch {
      addr = undefined;
    }
    // ipaddr.js types match() per address family; the kinds are checked equal first.
    const allowed = addr !== undefined && ranges.some(([range, bits]) => range.kind() === addr!.kind() && (addr as ipaddr.IPv4).match(range as ipaddr.IPv4, bits));
    next(allowed ? undefined : new AppError("forbidden", "This address may not use the API"));
  };
}
