// The Crosswire client library: import { connect } from 'crosswire/client' (dist/client/index.js).
export { type ConnectOptions, type ConnectionState, CrosswireClient, type Recovery, type SubscribeOptions, type Subscription, connect } from './client.js';
export { ChannelFeed } from './feed.js';
export { Observable } from './observable.js';
export { CrosswireError } from './outbox.js';
export type { ChannelDto, Json, MessageDto, UserDto, UserRef } from '../src/events/dto.js';
