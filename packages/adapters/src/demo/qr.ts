// The page's QR generator, bundled on its own (dist/demo/qr.js) and loaded only when a code is
// shown, so pages that never make a code never fetch it. uqr renders SVG text: no canvas, no eval.
export { renderSVG } from 'uqr';
