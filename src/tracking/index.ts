export * from "./entities";
