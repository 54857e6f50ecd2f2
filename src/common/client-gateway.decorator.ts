import { UseFilters, UseInterceptors, applyDecorators } from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import { SocketEventsInterceptor } from './socket-events.interceptor.js';
import { WsExceptionFilter } from './ws-exception.filter.js';

/** A gateway handling client events: errors become negative acks, outcomes are counted. */
export const ClientEventsGateway = () => applyDecorators(WebSocketGateway(), UseFilters(WsExceptionFilter), UseInterceptors(SocketEventsInterceptor));
