import { Module } from '@nestjs/common';
import { BROADCASTER, FANOUT_HEALTH, PRESENCE_READER, Port } from './ports.js';

/** The ports features call and realtime/ binds (see Port). A leaf: it imports nothing. */
@Module({
  providers: [
    { provide: BROADCASTER, useValue: new Port('Broadcaster') },
    { provide: PRESENCE_READER, useValue: new Port('PresenceReader') },
    { provide: FANOUT_HEALTH, useValue: new Port('FanoutHealth') },
  ],
  exports: [BROADCASTER, PRESENCE_READER, FANOUT_HEALTH],
})
export class EventsModule {}
