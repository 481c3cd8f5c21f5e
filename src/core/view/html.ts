// The prediction view's HTML page, shared by the VS Code panel and the browser tests so both load the same
// page under the same Content-Security-Policy: no inline script, only the nonce'd bundle; styles only from
// the extension's own resources.
import crypto from 'node:crypto';

export interface ViewHtmlOptions {
  /** URI of dist/media/predictionView.js as the webview may load it (webview.asWebviewUri). */
  scriptUri: string;
  styleUri: string;
  /** webview.cspSource (or the scheme the test serves files from). */
  cspSource: string;
  nonce?: string;
  title?: string;
}

export function makeNonce(): string {
  return crypto.randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function predictionViewHtml(o: ViewHtmlOptions): string {
  const nonce = o.nonce ?? makeNonce();
  const csp = `default-src 'none'; img-src ${o.cspSource}; script-src 'nonce-${nonce}'; style-src ${o.cspSource}; font-src ${o.cspSource};`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(o.styleUri)}">
<title>${attr(o.title ?? 'Predictions')}</title>
</head>
<body>
<script nonce="${nonce}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}
