/** The playground's stylesheet: system fonts, one accent colour, visible focus, light and dark. */
export const playgroundCss = `
:root { color-scheme: light dark; --accent: #0a66c2; --box: #ffb000; --muted: #667; --card: #f4f5f7; --line: #d0d4da; }
@media (prefers-color-scheme: dark) { :root { --accent: #6cb2ff; --muted: #99a; --card: #1d2026; --line: #3a3f48; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 70rem; padding: 1rem 1.25rem 3rem; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; }
h3 { font-size: 1rem; margin: 0 0 .5rem; }
.muted { color: var(--muted); font-weight: normal; font-size: .9em; }
header { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline; gap: .5rem; margin-bottom: 1rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
form { display: grid; gap: .75rem; }
.drop { display: grid; place-items: center; gap: .25rem; min-height: 8rem; padding: 1rem; border: 2px dashed var(--line); border-radius: .75rem; background: var(--card); cursor: pointer; text-align: center; }
.drop:focus-within { outline: 3px solid var(--accent); outline-offset: 2px; }
.drop.dragging { border-color: var(--accent); }
.drop-title { font-weight: 600; }
fieldset { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; border: 1px solid var(--line); border-radius: .5rem; }
fieldset label, .field { display: inline-flex; gap: .4rem; align-items: center; }
input[type=number] { width: 4.5rem; }
button { font: inherit; padding: .45rem 1rem; border-radius: .4rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; justify-self: start; }
button[disabled] { opacity: .5; cursor: not-allowed; }
.camera { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.camera button { background: transparent; color: var(--accent); }
.camera video { max-width: 20rem; border-radius: .5rem; }
#error { padding: .75rem 1rem; border-radius: .5rem; background: #fde8e8; color: #7a1010; }
@media (prefers-color-scheme: dark) { #error { background: #4a1818; color: #ffd6d6; } }
.meta { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: 0 0 .75rem; }
.meta dt { font-size: .8rem; color: var(--muted); }
.meta dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.route { padding: .05rem .5rem; border-radius: 1rem; background: var(--card); border: 1px solid var(--line); }
.route-gpu { border-color: #2a9d4b; } .route-edge { border-color: var(--accent); } .route-edge-fallback { border-color: #d98b00; }
.stage { margin: 0 0 1rem; }
.stage-inner { position: relative; display: inline-block; max-width: 100%; line-height: 0; }
.stage img { max-width: 100%; max-height: 70vh; height: auto; }
.stage svg { position: absolute; inset: 0; width: 100%; height: 100%; overflow: visible; }
.stage .box { fill: none; stroke: var(--box); stroke-width: 3; vector-effect: non-scaling-stroke; }
.stage .box.active { stroke: var(--accent); stroke-width: 5; }
.stage .tag { fill: var(--box); }
.stage .tag-text { fill: #000; font: 600 14px system-ui, sans-serif; }
.stage .map { opacity: .5; }
.faces { list-style: none; padding: 0; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(19rem, 1fr)); }
.face { padding: .9rem 1rem; border-radius: .75rem; background: var(--card); border: 2px solid transparent; }
.face:focus, .face:hover { border-color: var(--accent); outline: none; }
.thumbs { display: flex; gap: .5rem; margin-bottom: .5rem; }
.thumbs figure { margin: 0; text-align: center; font-size: .75rem; color: var(--muted); }
.chart-title { margin: .6rem 0 0; font-size: .8rem; color: var(--muted); }
.thumbs canvas, .thumbs img { display: block; width: 72px; height: 72px; border-radius: .4rem; }
.face dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .75rem; margin: 0; }
.face dt { color: var(--muted); }
.face dd { margin: 0; font-variant-numeric: tabular-nums; }
.big { font-size: 1.35rem; font-weight: 700; }
.chart { width: 100%; height: auto; display: block; margin: .25rem 0 .5rem; }
.chart .bar { fill: var(--accent); }
.chart .band { fill: var(--accent); opacity: .15; }
.chart .mean { stroke: #d33; stroke-width: 1.5; }
.chart .axis { fill: var(--muted); font: 10px system-ui, sans-serif; }
meter { width: 100%; }
.raw pre { max-height: 24rem; overflow: auto; padding: .75rem; background: var(--card); border-radius: .5rem; font-size: .8rem; white-space: pre-wrap; word-break: break-all; }
`;
