import { Global, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { BROADCASTER, PRESENCE_READER } from '../events/broadcaster.js';
import { CHANNEL_SESSIONS } from '../events/events.js';
import { PresenceService } from './presence.service.js';
import { RealtimeGateway } from './realtime.gateway.js';
import { RealtimeService } from './realtime.service.js';

/** Global so that feature modules get the event-map interfaces without importing realtime/. */
@Global()
@Module({
  imports: [AuthModule],
  providers: [
    PresenceService,
    RealtimeService,
    RealtimeGateway,
    { provide: BROADCASTER, useExisting: RealtimeService },
    { provide: CHANNEL_SESSIONS, useExisting: RealtimeService },
    { provide: PRESENCE_READER, useExisting: PresenceService },
  ],
  exports: [BROADCASTER, CHANNEL_SESSIONS, PRESENCE_READER],
})
export class RealtimeModule {}
