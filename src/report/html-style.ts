/** The inline stylesheet of report.html: system fonts, no external resources. */
export const PAGE_CSS = `
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d2330; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 20px 40px; }
h2 { font-size: 17px; margin: 0 0 10px; display: inline-block; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 14px 18px; margin: 14px 0; }
.banner { display: flex; align-items: center; gap: 22px; border-radius: 8px; padding: 16px 22px; color: #fff; }
.banner.pass { background: #1e7d3a; }
.banner.fail { background: #b3261e; }
.verdict { font-size: 40px; font-weight: 800; letter-spacing: 2px; }
.headline { min-width: 0; overflow-wrap: anywhere; }
.headline div { margin: 2px 0; }
.headline .diagnosis { font-weight: 600; }
.incomplete { margin-top: 8px; background: #f5b400; color: #2b1d00; font-weight: 700; padding: 8px 16px; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid #edf0f3; text-align: left; vertical-align: top; }
thead th { background: #f0f2f5; font-weight: 600; }
.settings th:first-child { width: 190px; color: #555; font-weight: 600; }
.settings td { width: 42%; word-break: break-word; }
.settings tr.differs td { background: #fff6d6; }
code { font-size: 12px; }
.metrics td { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
.metrics.steps td:nth-child(-n+4) { text-align: left; }
tr.fail td, tr.fail th { background: #fdf1f0; }
td.bad, span.bad { background: #f8c9c5; color: #8c1d18; font-weight: 700; }
.scroll { overflow-x: auto; max-width: 100%; }
.muted { color: #777; }
.pipeline { margin: 10px 0 0; }
.findings { margin: 0; padding-left: 0; list-style: none; }
.findings li { padding: 5px 8px; border-left: 4px solid #999; margin: 4px 0; background: #fafbfc; }
.findings li.error { border-color: #b3261e; }
.findings li.warning { border-color: #e0a100; }
.sev { display: inline-block; min-width: 64px; font-weight: 700; text-transform: uppercase; font-size: 11px; color: #555; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure.hist { margin: 0; max-width: 500px; }
figure.hist figcaption { text-align: left; }
.chart { display: block; width: 100%; max-width: 500px; height: auto; border: 1px solid #edf0f3; }
.trio { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 14px; margin: 8px 0; }
.trio figure { margin: 0; text-align: center; }
figcaption { font-size: 12px; color: #555; }
img.px { width: 160px; height: auto; image-rendering: pixelated; border: 1px solid #ccd; display: block; }
.ch { width: 80px; font-weight: 600; padding-top: 70px; }
.legends { display: flex; flex-direction: column; gap: 10px; padding-top: 30px; }
.legend { font-size: 12px; }
.legend img { display: block; width: 160px; height: 12px; border: 1px solid #ccd; }
.legend .ends { display: flex; justify-content: space-between; width: 160px; color: #555; }
summary { cursor: pointer; }
footer { color: #666; font-size: 12px; text-align: center; margin-top: 18px; }
`;
