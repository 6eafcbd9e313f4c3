import { InitialSchema1764000000000 } from "./1764000000000-InitialSchema";
import { SeedDefaultPipeline1764000000001 } from "./1764000000001-SeedDefaultPipeline";
import { OwnNumberLookup1764000000002 } from "./1764000000002-OwnNumberLookup";
import { TrackingLeases1764000000003 } from "./1764000000003-TrackingLeases";
import { TaskClosingCall1764000000004 } from "./1764000000004-TaskClosingCall";
import { TrackingProviderCalls1764000000005 } from "./1764000000005-TrackingProviderCalls";
import { CallReportColumns1764000000006 } from "./1764000000006-CallReportColumns";
import { LoginLockout1764000000007 } from "./1764000000007-LoginLockout";
import { TaskMissedCallsIndex1764000000008 } from "./1764000000008-TaskMissedCallsIndex";
import { OutboundWebhookHealth1764000000009 } from "./1764000000009-OutboundWebhookHealth";
import { ClickToCall1764000000010 } from "./1764000000010-ClickToCall";
import { ListenSessions1764000000011 } from "./1764000000011-ListenSessions";
import { OwnNumbers1764000000012 } from "./1764000000012-OwnNumbers";
import { LeanerHotPathIndexes1764000000013 } from "./1764000000013-LeanerHotPathIndexes";
import { ScreenPopCards1764000000014 } from "./1764000000014-ScreenPopCards";
import { Retention1764000000015 } from "./1764000000015-Retention";
import { TrackingSessionRetention1764000000016 } from "./1764000000016-TrackingSessionRetention";
import { InboxFailures1764000000017 } from "./1764000000017-InboxFailures";
import { ScreenPopCardsOnly1764000000018 } from "./1764000000018-ScreenPopCardsOnly";
import { DealReportColumns1764000000019 } from "./1764000000019-DealReportColumns";
import { ScreenPopsRoomForAcks1764000000020 } from "./1764000000020-ScreenPopsRoomForAcks";

/** Every migration, in order. A new migration is a new file added here; shipped ones never change. */
export const migrations = [InitialSchema1764000000000, SeedDefaultPipeline1764000000001, OwnNumberLookup1764000000002, TrackingLeases1764000000003, TaskClosingCall1764000000004, TrackingProviderCalls1764000000005, CallReportColumns1764000000006, LoginLockout1764000000007, TaskMissedCallsIndex1764000000008, OutboundWebhookHealth1764000000009, ClickToCall1764000000010, ListenSessions1764000000011, OwnNumbers1764000000012, LeanerHotPathIndexes1764000000013, ScreenPopCards1764000000014, Retention1764000000015, TrackingSessionRetention1764000000016, InboxFailures1764000000017, ScreenPopCardsOnly1764000000018, DealReportColumns1764000000019, ScreenPopsRoomForAcks1764000000020];
