import { describe, expect, it } from 'vitest';
import { hostPolicy } from '../../src/config/host-policy.js';
import { parse } from './helpers.js';

const policy = (lines: string[]) => hostPolicy(parse(['hosts:', ...lines.map((line) => `  ${line}`)]).config);

describe('hostPolicy', () => {
  it('an exact name wins over any glob', () => {
    const of = policy(['"web*": {interval: 10}', 'web1: {interval: 20}']);
    expect(of('web1')).toEqual({ interval: 20 });
    expect(of('web2')).toEqual({ interval: 10 });
  });

  it('then the longest matching glob, whatever the order in the file', () => {
    const of = policy(['"*": {grace: 1}', '"*.lab": {grace: 2}', '"db*.lab": {grace: 3}']);
    expect(of('db1.lab')).toEqual({ grace: 3 });
    expect(of('web1.lab')).toEqual({ grace: 2 });
    expect(of('web1.example')).toEqual({ grace: 1 });
  });

  it('equally long globs go by order in the file', () => {
    const of = policy(['"a*": {interval: 1}', '"*b": {interval: 2}']);
    expect(of('ab')).toEqual({ interval: 1 });
  });

  it('? is exactly one character, and everything else is literal', () => {
    const of = policy(['"web?": {interval: 1}', '"a.b+(c)": {interval: 2}', '"x.*": {interval: 3}']);
    expect(of('web1')).toEqual({ interval: 1 });
    expect(of('web12')).toEqual({});
    expect(of('a.b+(c)')).toEqual({ interval: 2 });
    expect(of('axb+(c)')).toEqual({});
    expect(of('x.lab')).toEqual({ interval: 3 });
    expect(of('xylab')).toEqual({});
  });

  it('ignores case', () => {
    expect(policy(['WEB*: {interval: 5}'])('Web7')).toEqual({ interval: 5 });
  });

  it('gives no overrides to a host nothing matches', () => {
    expect(policy(['web1: {interval: 5}'])('db1')).toEqual({});
    expect(hostPolicy(parse([]).config)('web1')).toEqual({});
  });
});
