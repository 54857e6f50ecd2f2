import { originAllowed } from './origin.js';

describe('originAllowed', () => {
  it('lets clients without an Origin through', () => {
    expect(originAllowed(undefined, 'hub:3000', undefined)).toBe(true);
  });
  it('without a list, allows only the origin the hub was reached by', () => {
    expect(originAllowed('http://hub:3000', 'hub:3000', undefined)).toBe(true);
    expect(originAllowed('https://hub:3000', 'hub:3000', undefined)).toBe(true);
    expect(originAllowed('http://evil.example', 'hub:3000', undefined)).toBe(false);
    expect(originAllowed('http://hub:3001', 'hub:3000', undefined)).toBe(false);
    expect(originAllowed('not a url', 'hub:3000', undefined)).toBe(false);
  });
  it('with a list, allows exactly the listed origins', () => {
    const list = ['https://app.example'];
    expect(originAllowed('https://app.example', 'hub:3000', list)).toBe(true);
    expect(originAllowed('http://hub:3000', 'hub:3000', list)).toBe(false);
    expect(originAllowed('https://app.example.evil', 'hub:3000', list)).toBe(false);
  });
});
