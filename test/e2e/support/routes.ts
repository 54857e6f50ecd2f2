/** Every REST route, with ids that exist, so only the missing token can fail it. */
export function everyRoute(channelId: string, userId: string): Array<[string, string, unknown?]> {
  return [
    ['GET', '/api/me'],
    ['POST', '/api/auth/logout-all'],
    ['POST', '/api/auth/password', { currentPassword: 'password123', newPassword: 'password456' }],
    ['POST', '/api/channels', { name: `x-${Date.now()}` }],
    ['GET', '/api/channels'],
    ['GET', `/api/channels/${channelId}`],
    ['PATCH', `/api/channels/${channelId}`, { name: 'renamed' }],
    ['DELETE', `/api/channels/${channelId}`],
    ['POST', `/api/channels/${channelId}/members`, { username: 'nobody' }],
    ['DELETE', `/api/channels/${channelId}/members/${userId}`],
    ['GET', `/api/channels/${channelId}/messages`],
    ['POST', `/api/channels/${channelId}/messages`, { body: 1 }],
    ['GET', `/api/channels/${channelId}/presence`],
  ];
}
