/** [N-2] The links a headless coordinator prints are the coordinator page's. */
import { describe, expect, it } from 'vitest';
import { joinLinks } from './joinLinks.ts';

describe('[N-2] join links', () => {
  it('name the network unless it is the default one, and give requesters the key', () => {
    expect(joinLinks('http://h:8080/', 'lab', 'k1')).toEqual({
      volunteer: 'http://h:8080/#/volunteer?network=lab',
      requester: 'http://h:8080/#/requester?network=lab&key=k1',
      network: 'http://h:8080/#/network?network=lab',
    });
    expect(joinLinks('https://q.example', 'default', 'k2')).toEqual({
      volunteer: 'https://q.example/#/volunteer',
      requester: 'https://q.example/#/requester?key=k2',
      network: 'https://q.example/#/network',
    });
  });
});
