import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { RecordingDownloadError, RecordingRejectedError } from '../../../lib/errors.ts';
import {
  checkRecordingUrl,
  isPublicAddress,
  type LookupFn,
  type UrlPolicy,
  vetRecordingUrl,
} from '../../../lib/recordings/url-policy.ts';

const ALLOWED_HOSTS = [
  '*.cometchat.io',
  'recordings.example.com',
  'media.example.com:8443',
  'internal.example.com',
  '127.0.0.1:9000',
  '[::1]:9000',
];

function policyResolvingTo(
  ...addresses: string[]
): UrlPolicy & { lookup: ReturnType<typeof vi.fn<LookupFn>> } {
  const lookup = vi.fn<LookupFn>(async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
  );
  return { allowedHosts: ALLOWED_HOSTS, lookup };
}

const STATIC_POLICY: UrlPolicy = { allowedHosts: ALLOWED_HOSTS };

describe('checkRecordingUrl', () => {
  it.each([
    ['a host not on the list', 'https://evil.example.net/r.mp4'],
    ['the wildcard suffix itself', 'https://cometchat.io/r.mp4'],
    ['a look-alike of the wildcard suffix', 'https://evilcometchat.io/r.mp4'],
    ['a suffix attached after the allowed one', 'https://a.cometchat.io.evil.net/r.mp4'],
    ['the metadata address as a literal', 'https://169.254.169.254/latest/meta-data'],
    ['the metadata address over http', 'http://169.254.169.254/latest/meta-data'],
    ['a private literal', 'https://10.0.0.1/r.mp4'],
    ['a private literal in hex', 'https://0x0a000001/r.mp4'],
    ['a file URL', 'file:///etc/passwd'],
    ['an ftp URL', 'ftp://a.cometchat.io/r.mp4'],
    ['a data URL', 'data:text/plain,hello'],
    ['a gopher URL', 'gopher://a.cometchat.io/'],
    ['a javascript URL', 'javascript:alert(1)'],
    ['user and password', 'https://user:pass@a.cometchat.io/r.mp4'],
    ['a user name alone', 'https://user@a.cometchat.io/r.mp4'],
    ['http to a host matched only by a wildcard', 'http://a.cometchat.io/r.mp4'],
    ['a listed host on another port than its entry', 'https://media.example.com/r.mp4'],
    ['a listed literal on another port', 'http://127.0.0.1:9001/r.mp4'],
    ['a listed literal on its default port', 'http://127.0.0.1/r.mp4'],
    ['the IPv6 loopback on another port', 'http://[::1]:9001/r.mp4'],
    ['the IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]:9000/r.mp4'],
    ['not a URL', 'not a url at all'],
    ['a relative URL', '/calls/r.mp4'],
  ])('refuses %s', (_what, url) => {
    // Act
    const act = () => checkRecordingUrl(url, STATIC_POLICY);

    // Assert
    expect(act).toThrow(RecordingRejectedError);
  });

  it.each([
    ['a subdomain of a wildcard entry', 'https://rec.cometchat.io/r.mp4?Signature=abc'],
    ['a deeper subdomain of a wildcard entry', 'https://a.b.cometchat.io/r.mp4'],
    ['upper case and a trailing dot', 'https://REC.CometChat.IO./r.mp4'],
    ['a host listed without a port, on any port', 'https://recordings.example.com:444/r.mp4'],
    ['http to an exactly listed host', 'http://recordings.example.com/r.mp4'],
    ['a host on the port its entry names', 'https://media.example.com:8443/r.mp4'],
    ['http to an exactly listed loopback address and port', 'http://127.0.0.1:9000/r.mp4'],
    ['http to an exactly listed IPv6 loopback and port', 'http://[::1]:9000/r.mp4'],
  ])('accepts %s', (_what, url) => {
    // Act
    const parsed = checkRecordingUrl(url, STATIC_POLICY);

    // Assert
    expect(parsed).toBeInstanceOf(URL);
  });

  it('names the host and the reason but never the query string or path', () => {
    // Arrange
    const url = 'https://evil.example.net/secret-path/r.mp4?Signature=s3cr3t&Key-Pair-Id=K';

    // Act
    const error = (() => {
      try {
        checkRecordingUrl(url, STATIC_POLICY);
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a rejection');
    })();

    // Assert
    expect(error.message).toContain('evil.example.net');
    expect(error.message).toContain('not on the allowed list');
    expect(error.message).not.toContain('s3cr3t');
    expect(error.message).not.toContain('secret-path');
  });

  it('matches nothing for an allowlist entry it cannot read', () => {
    // Arrange
    const policy: UrlPolicy = { allowedHosts: ['*.*', 'http://x.test/', ''] };

    // Act
    const act = () => checkRecordingUrl('https://x.test/r.mp4', policy);

    // Assert
    expect(act).toThrow(RecordingRejectedError);
  });

  it('never throws anything but RecordingRejectedError, whatever the input', () => {
    // Arrange
    const anyUrl = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.webUrl({ validSchemes: ['http', 'https', 'file', 'ftp', 'data'] }),
      fc.constantFrom(
        'https://',
        'http://[',
        'https://[::1',
        'https://%00/',
        'https://a.cometchat.io:99999/',
      ),
    );
    const anyHosts = fc.oneof(fc.constant(ALLOWED_HOSTS), fc.array(fc.oneof(fc.string(), fc.domain())));

    // Act / Assert
    fc.assert(
      fc.property(anyUrl, anyHosts, (url, allowedHosts) => {
        try {
          checkRecordingUrl(url, { allowedHosts });
        } catch (error) {
          expect(error).toBeInstanceOf(RecordingRejectedError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never puts the query string in a refusal', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true }), fc.string({ minLength: 1 }), (base, secret) => {
        // Arrange
        const url = new URL(base);
        url.searchParams.set('Signature', secret);

        // Act
        try {
          checkRecordingUrl(url.href, STATIC_POLICY);
        } catch (error) {
          // Assert
          expect((error as Error).message).not.toContain(url.search);
        }
      }),
    );
  });

  it('only accepts https, or http to an exactly listed host', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('http', 'https'),
        fc.constantFrom(
          'rec.cometchat.io',
          'recordings.example.com',
          'media.example.com',
          '127.0.0.1',
          'x.test',
        ),
        fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        (scheme, host, port) => {
          // Arrange
          const url = `${scheme}://${host}${port === undefined ? '' : `:${port}`}/r.mp4`;

          // Act
          let accepted: URL | undefined;
          try {
            accepted = checkRecordingUrl(url, STATIC_POLICY);
          } catch {
            accepted = undefined;
          }

          // Assert
          if (accepted?.protocol === 'http:') {
            const effective = accepted.port || '80';
            expect(
              ALLOWED_HOSTS.includes(accepted.hostname) ||
                ALLOWED_HOSTS.includes(`${accepted.hostname}:${effective}`),
            ).toBe(true);
          }
        },
      ),
    );
  });
});

describe('vetRecordingUrl', () => {
  it.each([
    ['a private IPv4 address', ['10.0.0.5']],
    ['the IPv4 loopback', ['127.0.0.1']],
    ['the IPv6 loopback', ['::1']],
    ['an IPv4-mapped loopback', ['::ffff:127.0.0.1']],
    ['an IPv4-mapped metadata address in hex', ['::ffff:a9fe:a9fe']],
    ['the EC2 IPv6 metadata address', ['fd00:ec2::254']],
    ['the metadata address', ['169.254.169.254']],
    ['a CGNAT address', ['100.64.1.1']],
    ['the unspecified IPv4 address', ['0.0.0.0']],
    ['the unspecified IPv6 address', ['::']],
    ['an IPv6 link-local address', ['fe80::1']],
    ['an IPv6 multicast address', ['ff02::1']],
    ['a NAT64 address embedding a private one', ['64:ff9b::10.0.0.1']],
    ['a private address among public ones', ['8.8.8.8', '192.168.1.10']],
    ['something that is not an address', ['not-an-ip']],
  ])('refuses a wildcard-matched host resolving to %s', async (_what, addresses) => {
    // Arrange
    const policy = policyResolvingTo(...addresses);

    // Act
    const vetting = vetRecordingUrl('https://rec.cometchat.io/r.mp4?Signature=abc', policy);

    // Assert
    await expect(vetting).rejects.toThrow(RecordingRejectedError);
    await expect(vetting).rejects.toThrow(/rec\.cometchat\.io/);
    expect(policy.lookup).toHaveBeenCalledWith('rec.cometchat.io');
  });

  it('returns the first public address to pin the connection to', async () => {
    // Arrange
    const policy = policyResolvingTo('2606:4700::1111', '8.8.8.8');

    // Act
    const vetted = await vetRecordingUrl('https://rec.cometchat.io/r.mp4', policy);

    // Assert
    expect(vetted).toEqual({
      url: new URL('https://rec.cometchat.io/r.mp4'),
      address: '2606:4700::1111',
      family: 6,
    });
    expect(policy.lookup).toHaveBeenCalledTimes(1);
  });

  it('allows a private address when the host itself is listed exactly', async () => {
    // Arrange
    const policy = policyResolvingTo('10.0.0.5');

    // Act
    const vetted = await vetRecordingUrl('https://internal.example.com/r.mp4', policy);

    // Assert
    expect(vetted.address).toBe('10.0.0.5');
    expect(vetted.family).toBe(4);
  });

  it('pins a listed IP literal without asking DNS', async () => {
    // Arrange
    const policy = policyResolvingTo('8.8.8.8');

    // Act
    const vetted = await vetRecordingUrl('http://[::1]:9000/r.mp4', policy);

    // Assert
    expect(vetted).toMatchObject({ address: '::1', family: 6 });
    expect(policy.lookup).not.toHaveBeenCalled();
  });

  it('refuses statically before resolving anything', async () => {
    // Arrange
    const policy = policyResolvingTo('8.8.8.8');

    // Act
    const vetting = vetRecordingUrl('https://169.254.169.254/latest/meta-data', policy);

    // Assert
    await expect(vetting).rejects.toThrow(RecordingRejectedError);
    expect(policy.lookup).not.toHaveBeenCalled();
  });

  it('reports a DNS failure as a download error, which may pass later', async () => {
    // Arrange
    const lookup = vi.fn<LookupFn>(async () => {
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN rec.cometchat.io'), { code: 'EAI_AGAIN' });
    });

    // Act
    const vetting = vetRecordingUrl('https://rec.cometchat.io/r.mp4', {
      allowedHosts: ALLOWED_HOSTS,
      lookup,
    });

    // Assert
    await expect(vetting).rejects.toThrow(RecordingDownloadError);
  });

  it('reports a host without addresses as a download error', async () => {
    // Arrange
    const policy = policyResolvingTo();

    // Act
    const vetting = vetRecordingUrl('https://rec.cometchat.io/r.mp4', policy);

    // Assert
    await expect(vetting).rejects.toThrow(RecordingDownloadError);
  });
});

describe('isPublicAddress', () => {
  it.each([
    ['8.8.8.8', true],
    ['172.32.0.1', true],
    ['2606:4700::1111', true],
    ['::ffff:8.8.8.8', true],
    ['64:ff9b::808:808', true],
    ['[2606:4700::1111]', true],
    ['10.255.255.255', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['192.168.1.1', false],
    ['127.8.8.8', false],
    ['0.0.0.0', false],
    ['100.127.255.255', false],
    ['169.254.169.254', false],
    ['192.0.2.1', false],
    ['198.18.0.1', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['::', false],
    ['::1', false],
    ['[::1]', false],
    ['::127.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:0.0.0.0', false],
    ['fc00::1', false],
    ['fd00:ec2::254', false],
    ['fe80::1', false],
    ['fe80::1%eth0', false],
    ['fec0::1', false],
    ['ff02::1', false],
    ['2001:db8::1', false],
    ['2002:c0a8:101::1', false],
    ['2001::1', false],
    ['64:ff9b:1::1', false],
    ['not-an-ip', false],
    ['', false],
  ])('classifies %s as public: %s', (address, expected) => {
    // Act
    const result = isPublicAddress(address);

    // Assert
    expect(result).toBe(expected);
  });

  it('judges an IPv4-mapped IPv6 address exactly as the IPv4 address it maps', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        // Act
        const direct = isPublicAddress(v4);
        const mapped = isPublicAddress(`::ffff:${v4}`);

        // Assert
        expect(mapped).toBe(direct);
      }),
    );
  });

  it('never calls an address outside 2000::/3 public unless it embeds a public IPv4 one', () => {
    fc.assert(
      fc.property(fc.ipV6(), (v6) => {
        // Arrange
        const first = Number.parseInt(new URL(`http://[${v6}]/`).hostname.slice(1).split(':')[0] || '0', 16);
        const embedsV4 = /^\[(::ffff:|64:ff9b::)[0-9a-f]{1,4}:[0-9a-f]{1,4}\]$/.test(
          new URL(`http://[${v6}]/`).hostname,
        );

        // Act
        const result = isPublicAddress(v6);

        // Assert
        if (result && !embedsV4) expect(first & 0xe000).toBe(0x2000);
      }),
    );
  });
});
