import * as assert from 'node:assert/strict';
import {
  embed, extract, inPrefix, VALID_PREFIX_LENGTHS, isNonGlobal4, parsePrefix6, Rfc6052Error, wkpForbids, WELL_KNOWN_PREFIX,
} from '../../src/dataplane/rfc6052';
import { a4, a6 } from './vectors/build';

/** RFC 6052 §2.4 Table 1: 192.0.2.33 under each prefix length. */
const TABLE1: Array<[string, number, string]> = [
  ['2001:db8::', 32, '2001:db8:c000:221::'],
  ['2001:db8:100::', 40, '2001:db8:1c0:2:21::'],
  ['2001:db8:122::', 48, '2001:db8:122:c000:2:2100::'],
  ['2001:db8:122:300::', 56, '2001:db8:122:3c0:0:221::'],
  ['2001:db8:122:344::', 64, '2001:db8:122:344:c0:2:2100:0'],
  ['2001:db8:122:344::', 96, '2001:db8:122:344::c000:221'],
  ['64:ff9b::', 96, '64:ff9b::c000:221'],
];

describe('RFC 6052', () => {
  for (const [prefix, len, expected] of TABLE1) {
    it(`RFC 6052 §2.4: 192.0.2.33 in ${prefix}/${len} is ${expected} (u octet skipped)`, () => {
      const out = new Uint8Array(20).fill(0xaa);
      embed(a6(prefix), len, a4('192.0.2.33'), out, 2);
      assert.deepEqual(out.subarray(2, 18), a6(expected));
      assert.equal(out[1], 0xaa);
      assert.equal(out[18], 0xaa);
    });
    it(`RFC 6052 §2.3: extracting from ${expected} (/${len}) gives 192.0.2.33`, () => {
      const buf = new Uint8Array(20);
      buf.set(a6(expected), 3);
      assert.equal(extract(buf, 3, len), a4('192.0.2.33'));
    });
  }

  it('RFC 6052 §2.2: bits 64-71 (u octet) and the suffix are zero even when the prefix buffer is not', () => {
    const dirty = a6('2001:db8:122:344:ffff:ffff:ffff:ffff');
    const out = new Uint8Array(16);
    embed(dirty, 40, a4('192.0.2.33'), out, 0);
    assert.deepEqual(out, a6('2001:db8:1c0:2:21::'));
  });

  it('inPrefix compares the first prefixLen bits only', () => {
    const buf = a6('64:ff9b::c000:221');
    assert.equal(inPrefix(buf, 0, WELL_KNOWN_PREFIX, 96), true);
    assert.equal(inPrefix(a6('64:ff9c::1'), 0, WELL_KNOWN_PREFIX, 96), false);
    assert.equal(inPrefix(a6('2001:db8:1c0:2:21::'), 0, a6('2001:db8:100::'), 40), true);
    assert.equal(inPrefix(a6('2001:db8:2c0:2:21::'), 0, a6('2001:db8:100::'), 40), false);
  });

  it('inPrefix, RFC 6052 §2.2 every length: one bit changed in any byte of the prefix is outside, after it inside (at an offset)', () => {
    const prefix = a6('2001:db8:1122:3344:5566:7788::');
    for (const len of VALID_PREFIX_LENGTHS) {
      for (let byte = 0; byte < 16; byte++) {
        for (const bit of [0x01, 0x80]) {
          const buf = new Uint8Array(24);
          buf.set(prefix, 5);
          buf[5 + byte] ^= bit;
          assert.equal(inPrefix(buf, 5, prefix, len), byte >= len / 8, `/${len}, byte ${byte} bit ${bit}`);
        }
      }
    }
  });

  describe('parsePrefix6 (control path)', () => {
    it('RFC 6052 §2.2: accepts the six lengths', () => {
      for (const len of [32, 40, 48, 56, 64, 96]) assert.equal(parsePrefix6(`2001:db8::/${len}`).len, len);
      assert.deepEqual(parsePrefix6('64:ff9b::/96').prefix, WELL_KNOWN_PREFIX);
    });
    const bad: Array<[string, string]> = [
      ['64:ff9b::/80', 'EPREFIX_LENGTH'],
      ['64:ff9b::/', 'EPREFIX_LENGTH'],
      ['64:ff9b::', 'EPREFIX_SYNTAX'],
      ['64:zz9b::/96', 'EPREFIX_SYNTAX'],
      ['2001:db8::1/64', 'EPREFIX_HOST_BITS'],
      ['2001:db8:0:0:100::/96', 'EPREFIX_U_OCTET'],
    ];
    for (const [text, code] of bad) {
      it(`RFC 6052 §2.2: rejects "${text}" with ${code}`, () => {
        assert.throws(() => parsePrefix6(text), (e: unknown) => e instanceof Rfc6052Error && e.code === code);
      });
    }
  });

  describe('RFC 6052 §3.1 well-known prefix restriction (opt-in, pool6Strict)', () => {
    it('RFC 6052 §3.1: the WKP MUST NOT represent non-global IPv4 addresses (RFC 1918, RFC 5735)', () => {
      for (const a of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '169.254.1.1', '192.0.2.1',
        '198.51.100.1', '203.0.113.16', '100.64.0.1', '198.18.0.1', '224.0.0.1', '0.1.2.3']) {
        assert.equal(isNonGlobal4(a4(a)), true, a);
        assert.equal(wkpForbids(WELL_KNOWN_PREFIX, 96, a4(a)), true, a);
      }
    });
    it('RFC 6052 §3.1: global addresses and network-specific prefixes are not restricted', () => {
      for (const a of ['8.8.8.8', '192.0.3.1', '172.32.0.1', '203.0.114.1', '100.128.0.1']) {
        assert.equal(wkpForbids(WELL_KNOWN_PREFIX, 96, a4(a)), false, a);
      }
      assert.equal(wkpForbids(a6('2001:db8::'), 96, a4('10.0.0.1')), false);
    });
  });
});
