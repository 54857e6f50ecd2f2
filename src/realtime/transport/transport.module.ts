import { Module } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module.js';
import { LimitsModule } from '../../limits/limits.module.js';
import { ConnectionGateway } from './connection.gateway.js';
import { SlowConsumers } from './slow-consumers.js';
import { SocketServer } from './socket-server.js';

/**
 * The Socket.IO server and its connections: the handshake, token expiry,
 * slow consumers, and SocketServer, the one way the protocols above reach
 * sockets. It knows nothing of delivery or presence.
 */
@Module({
  imports: [AuthModule, LimitsModule],
  providers: [SocketServer, SlowConsumers, ConnectionGateway],
  exports: [SocketServer],
})
export class TransportModule {}
