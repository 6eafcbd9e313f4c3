import { ScreenPop, ScreenPopCard } from "./screen-pop.entity";

export * from "./screen-pop.entity";

export const realtimeEntities = [ScreenPop, ScreenPopCard];
