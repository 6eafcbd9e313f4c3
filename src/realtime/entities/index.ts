import { ScreenPop } from "./screen-pop.entity";

export * from "./screen-pop.entity";

export const realtimeEntities = [ScreenPop];
