import { JsonLogger, logContext } from './logger.js';

describe('JsonLogger', () => {
  const capture = (level: 'debug' | 'info' | 'warn' | 'error' | 'silent' = 'debug') => {
    const lines: any[] = [];
    return { lines, logger: new JsonLogger('replica-7', level, (l) => lines.push(JSON.parse(l))) };
  };

  it('writes one JSON object per line with time, level, replica id and fields', () => {
    const { lines, logger } = capture();
    logger.event('info', 'hello', { n: 1 });
    expect(lines).toEqual([{ time: expect.any(String), level: 'info', replicaId: 'replica-7', msg: 'hello', n: 1 }]);
  });

  it('adds the request or socket context of the work being logged', () => {
    const { lines, logger } = capture();
    logContext.run({ requestId: 'req-1' }, () => logger.event('warn', 'inside'));
    logger.event('warn', 'outside');
    expect(lines[0].requestId).toBe('req-1');
    expect(lines[1].requestId).toBeUndefined();
  });

  it("takes Nest's context argument and errors with their stack", () => {
    const { lines, logger } = capture();
    logger.log('mapped', 'RouterExplorer');
    logger.error(new Error('boom'));
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'mapped', context: 'RouterExplorer' });
    expect(lines[1]).toMatchObject({ level: 'error', msg: 'boom', err: { name: 'Error', message: 'boom' } });
    expect(lines[1].err.stack).toContain('logger.spec');
  });

  it('drops lines below its level', () => {
    const { lines, logger } = capture('warn');
    logger.debug('no');
    logger.log('no');
    logger.warn('yes');
    expect(lines.map((l) => l.msg)).toEqual(['yes']);
  });
});
