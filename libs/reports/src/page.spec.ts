import { createHash } from 'node:crypto';
import { renderPage } from './page';
import { renderSweepReport } from './sweep-report';

/** The inline scripts and styles of a page, as the browser hashes them for its CSP. */
function inline(html: string, tag: 'script' | 'style'): string[] {
  const pattern = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  return [...html.matchAll(pattern)].map((match) => match[1]);
}

function hashOf(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

describe('renderPage', () => {
  it.each(['index', 'run', 'sweep'] as const)(
    '%s: the CSP allows exactly the inline scripts and style of the page, nothing from elsewhere',
    (kind) => {
      const { html, contentSecurityPolicy } = renderPage(kind, { title: 'T', mode: 'live' });
      const directives = new Map(
        contentSecurityPolicy.split('; ').map((directive) => {
          const [name, ...sources] = directive.split(' ');
          return [name, sources];
        }),
      );
      const scripts = inline(html, 'script');
      expect(scripts.length).toBe(kind === 'run' ? 3 : 2);
      expect(directives.get('script-src')).toEqual(scripts.map(hashOf));
      expect(directives.get('style-src')).toEqual(inline(html, 'style').map(hashOf));
      expect(directives.get('default-src')).toEqual(["'none'"]);
      expect(directives.get('connect-src')).toEqual(["'self'"]);
      // Nothing loaded from anywhere: no src= and no stylesheet links.
      expect(html).not.toMatch(/<script[^>]* src=|<link rel="stylesheet"/);
    },
  );

  it('static pages carry their CSP in a meta element (no network, no frame-ancestors)', () => {
    const { html, contentSecurityPolicy } = renderPage('run', {
      title: 'T',
      mode: 'static',
      data: {},
    });
    expect(contentSecurityPolicy).toContain("connect-src 'none'");
    expect(contentSecurityPolicy).not.toContain('frame-ancestors');
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy.replace(/'/g, '&#39;')}">`,
    );
  });

  it('keeps data and titles from ending the script or markup they are in', () => {
    const html = renderSweepReport({
      sweep_id: '</script><script>alert(1)</script>',
      status: 'completed',
      progress: 1,
      combinations: 0,
      done: 0,
      best: null,
      top: [],
      validation: null,
      error: null,
    });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain(
      '<title>Sweep &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>',
    );
    const data = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)!;
    expect(JSON.parse(data[1])).toMatchObject({
      sweep: { sweep_id: '</script><script>alert(1)</script>' },
    });
  });
});
