/**
 * The HTML report's one style sheet (inline; its hash is in the page's Content-Security-Policy).
 * Light and dark schemes follow the reader's system setting unless the page's button picks one.
 * Status colours are the Okabe-Ito palette, chosen to stay apart for the common colour-vision
 * deficiencies; every status also has its own icon and fill pattern, so colour is never the only cue.
 */
export const PAGE_STYLE = `
:root{--bg:#fff;--fg:#1b1b1b;--muted:#5d5d5d;--line:#d6d6d6;--panel:#f5f6f8;--accent:#0b57d0;
--ok:#007a5a;--fail:#c0392b;--app:#a8327f;--unexpected:#9a6400;--seen:#2a7ab0;--never:#8a8a8a;
--ok-bg:#e3f4ee;--fail-bg:#fbe4e0;--app-bg:#f7e3f0;--unexpected-bg:#fbefd9;--seen-bg:#e2f0fa;--never-bg:transparent;color-scheme:light}
:root[data-scheme=dark]{--bg:#15171a;--fg:#e6e6e6;--muted:#a3a3a3;--line:#3a3d42;--panel:#1f2226;--accent:#8ab4f8;
--ok:#3fcf9f;--fail:#ff8a70;--app:#f29bd0;--unexpected:#f0c05a;--seen:#8cc8f0;--never:#8a8a8a;
--ok-bg:#16342b;--fail-bg:#3d1f1a;--app-bg:#3a1f31;--unexpected-bg:#3a2e14;--seen-bg:#18303f;color-scheme:dark}
@media (prefers-color-scheme:dark){:root:not([data-scheme=light]){--bg:#15171a;--fg:#e6e6e6;--muted:#a3a3a3;--line:#3a3d42;--panel:#1f2226;--accent:#8ab4f8;
--ok:#3fcf9f;--fail:#ff8a70;--app:#f29bd0;--unexpected:#f0c05a;--seen:#8cc8f0;--never:#8a8a8a;
--ok-bg:#16342b;--fail-bg:#3d1f1a;--app-bg:#3a1f31;--unexpected-bg:#3a2e14;--seen-bg:#18303f;color-scheme:dark}}
*{box-sizing:border-box}[hidden]{display:none!important}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:var(--bg);color:var(--fg)}
main{max-width:1280px;margin:0 auto;padding:1rem 1.5rem 3rem}
header.top{display:flex;gap:1rem;align-items:baseline;justify-content:space-between;flex-wrap:wrap}
h1{font-size:1.25rem;margin:.2rem 0}h2{font-size:1.1rem;margin:2rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1rem;margin:.2rem 0}
.muted{color:var(--muted)}code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
button{font:inherit;cursor:pointer;border:1px solid var(--line);background:var(--panel);color:var(--fg);border-radius:4px;padding:.15rem .55rem}
button:hover{border-color:var(--accent)}button:focus-visible,input:focus-visible,select:focus-visible{outline:2px solid var(--accent);outline-offset:1px}
.sentence{font-size:1.3rem;font-weight:600;margin:.8rem 0 .4rem;padding:.7rem 1rem;border-left:6px solid var(--ok);background:var(--ok-bg)}
.sentence.st-fail{border-color:var(--fail);background:var(--fail-bg)}.sentence.st-unexpected{border-color:var(--unexpected);background:var(--unexpected-bg)}
.sentence.st-seen{border-color:var(--seen);background:var(--seen-bg)}
.facts{margin:.2rem 0 .6rem}.note{margin:.3rem 0;padding:.3rem .6rem;border-left:3px solid var(--unexpected);background:var(--panel)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:.8rem}
.card{border:1px solid var(--line);border-left:6px solid var(--line);border-radius:6px;padding:.6rem .8rem;background:var(--panel)}
.card.st-fail{border-left-color:var(--fail)}.card.st-app{border-left-color:var(--app)}.card.st-unexpected{border-left-color:var(--unexpected)}
.card dl{display:grid;grid-template-columns:7.5em 1fr;gap:.15rem .6rem;margin:.4rem 0}.card dt{color:var(--muted)}.card dd{margin:0}
.card .actions{display:flex;gap:.4rem;flex-wrap:wrap;margin-top:.3rem}
.rules{margin:.3rem 0}.rules summary{cursor:pointer}.rules pre{overflow:auto;background:var(--bg);border:1px solid var(--line);padding:.4rem;margin:.3rem 0}
.badge{display:inline-flex;align-items:center;gap:.25rem;font-weight:600;padding:0 .35rem;border-radius:3px}
.icon{display:inline-block;min-width:1em;text-align:center;font-weight:700}
.st-ok .icon,.badge.st-ok{color:var(--ok)}.st-fail .icon,.badge.st-fail{color:var(--fail)}.st-app .icon,.badge.st-app{color:var(--app)}
.st-unexpected .icon,.badge.st-unexpected{color:var(--unexpected)}.st-seen .icon,.badge.st-seen{color:var(--seen)}.st-never .icon,.badge.st-never{color:var(--never)}
.legend{display:grid;grid-template-columns:repeat(auto-fill,minmax(290px,1fr));gap:.3rem .9rem;margin:.4rem 0}
.legend .swatch{display:inline-block;width:1.6em;height:1.1em;vertical-align:middle;border:1px solid var(--line);margin-right:.3rem}
.matrix{border-collapse:collapse;width:100%}.matrix th{text-align:left;vertical-align:top;padding:.4rem .6rem .4rem 0;white-space:nowrap;width:1%}
.matrix td{padding:.3rem 0;border-top:1px solid var(--line)}.matrix th{border-top:1px solid var(--line)}
.cells{display:flex;flex-wrap:wrap;gap:.3rem}
.cell{display:inline-flex;flex-direction:column;align-items:flex-start;min-width:7.5em;padding:.2rem .4rem;border-radius:4px;text-align:left;line-height:1.25}
.cell .port{font-weight:600}.cell .n{font-size:12px;color:var(--muted)}
.cell.st-ok{background:var(--ok-bg);border-color:var(--ok)}
.cell.st-fail,.swatch.st-fail{background:repeating-linear-gradient(135deg,var(--fail-bg) 0 6px,transparent 6px 10px),var(--fail-bg);border:2px solid var(--fail)}
.cell.st-app,.swatch.st-app{background:repeating-linear-gradient(90deg,var(--app-bg) 0 5px,transparent 5px 8px),var(--app-bg);border:2px solid var(--app)}
.cell.st-unexpected,.swatch.st-unexpected{background:radial-gradient(circle,var(--unexpected) 1px,transparent 1.5px) 0 0/6px 6px,var(--unexpected-bg);border:2px dotted var(--unexpected)}
.cell.st-seen,.swatch.st-seen{background:var(--seen-bg);border:1px solid var(--seen)}
.cell.st-never,.swatch.st-never{background:transparent;border:1px dashed var(--never);color:var(--muted)}
.swatch.st-ok{background:var(--ok-bg);border-color:var(--ok)}
.cell[disabled]{cursor:default}
svg text{fill:var(--fg);font:12px system-ui,sans-serif}svg .axis{stroke:var(--line)}svg .lane{fill:var(--panel)}
svg .bar-ok{fill:var(--ok)}svg .bar-fail{fill:var(--fail)}svg .mark{fill:var(--fail);font-weight:700}
svg .life{stroke:var(--muted);stroke-dasharray:4 3}svg .msg{stroke:var(--fg)}svg .msg-fail{stroke:var(--fail)}svg .msg-fail+text{fill:var(--fail)}
svg .arrow{fill:var(--fg)}svg .tmuted{fill:var(--muted)}
.scroll-x{overflow-x:auto}
.ladder{margin:.4rem 0 1.2rem;padding:.5rem .8rem;border:1px solid var(--line);border-radius:6px}
.media{margin:.3rem 0;padding-left:1.2rem}
.controls{display:flex;gap:.6rem;flex-wrap:wrap;align-items:center;margin:.4rem 0}
.controls input[type=search]{min-width:18em}.controls input,.controls select{font:inherit;padding:.15rem .3rem;background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:4px}
.chip{display:inline-flex;gap:.4rem;align-items:center;padding:.1rem .5rem;border:1px solid var(--accent);border-radius:999px}
#flow-scroll{height:min(60vh,640px);overflow:auto;border:1px solid var(--line);border-radius:4px}
.flows{border-collapse:collapse;width:100%;table-layout:fixed}
.flows th{position:sticky;top:0;background:var(--panel);text-align:left;padding:.2rem .4rem;border-bottom:1px solid var(--line);z-index:1}
.flows th[data-sort]{cursor:pointer}.flows th[aria-sort=ascending]::after{content:" ▲"}.flows th[aria-sort=descending]::after{content:" ▼"}
.flows td{height:26px;padding:0 .4rem;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;border-bottom:1px solid var(--line)}
.flows tr.spacer td{padding:0;border:0;height:auto}
.flows tbody tr:not(.spacer){cursor:pointer}.flows tbody tr:not(.spacer):hover td{background:var(--panel)}
.flows tr.st-fail td.verdict{color:var(--fail);font-weight:600}.flows tr.st-unexpected td.verdict{color:var(--unexpected);font-weight:600}
.flows tr.st-app td.verdict{color:var(--app);font-weight:600}
.flows col.c-time{width:8.2em}.flows col.c-verdict{width:9.8em}.flows col.c-proto{width:4em}.flows col.c-end{width:17em}
.flows col.c-app{width:12em}.flows col.c-frames{width:6.5em}
#flow-detail{margin:.6rem 0;padding:.5rem .8rem;border:1px solid var(--line);border-radius:6px;background:var(--panel)}
#flow-detail dl{display:grid;grid-template-columns:9em 1fr;gap:.1rem .6rem;margin:0}#flow-detail dd{margin:0}
table.plain{border-collapse:collapse}table.plain th,table.plain td{border:1px solid var(--line);padding:.2rem .5rem;text-align:left;vertical-align:top}
details>summary{cursor:pointer}
footer{margin-top:2rem}
`;
