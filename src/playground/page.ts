/**
 * The playground's HTML: a form (photo, tier, options), the photo with the face boxes and score
 * maps drawn over it, one card per face, and the route and timing. Native controls only, so it
 * works from the keyboard and with a screen reader without extra code.
 */
export const playgroundHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Face age &amp; attractiveness API: playground</title>
<link rel="stylesheet" href="/playground.css">
<link rel="icon" href="data:,">
<script type="module" src="/playground.js"></script>
</head>
<body>
<header>
  <h1>Face age &amp; attractiveness <span class="muted">DLDL-v2 API playground</span></h1>
  <nav aria-label="Links"><a href="/docs">API docs</a> · <a href="/openapi.json">OpenAPI</a> · <a href="/v1/models">Model cards</a></nav>
</header>
<main>
  <form id="analyze-form" aria-describedby="privacy">
    <label id="drop" class="drop" for="photo">
      <span class="drop-title">Drop a photo here, paste one, or <u>choose a file</u></span>
      <span class="muted">JPEG, PNG or WebP, up to 8 MB</span>
      <input id="photo" name="photo" type="file" accept="image/jpeg,image/png,image/webp" class="visually-hidden">
    </label>
    <div class="camera">
      <button type="button" id="camera-start" hidden>Use the camera</button>
      <video id="camera-video" playsinline muted hidden aria-label="Camera preview"></video>
      <button type="button" id="camera-shoot" hidden>Take photo</button>
      <button type="button" id="camera-stop" hidden>Close camera</button>
    </div>
    <fieldset>
      <legend>Options</legend>
      <span class="field"><label for="tier">Tier</label>
        <select id="tier" name="tier">
          <option value="fast">fast: small models in the edge worker</option>
          <option value="standard" selected>standard: full models on the GPU runner</option>
          <option value="accurate">accurate: full models, flip-averaged (no fallback)</option>
        </select></span>
      <label><input type="checkbox" id="attr-age" name="age" checked> Age</label>
      <label><input type="checkbox" id="attr-beauty" name="beauty" checked> Attractiveness</label>
      <label><input type="checkbox" id="explain" name="explain" checked> Score maps</label>
      <span class="field"><label for="max-faces">Most faces</label> <input type="number" id="max-faces" name="max_faces" min="1" max="20" value="5" inputmode="numeric"></span>
      <span class="field"><label for="api-key">API key</label> <input type="password" id="api-key" name="api_key" autocomplete="off" placeholder="optional (free plan without)"></span>
    </fieldset>
    <button type="submit" id="analyze" disabled>Analyze</button>
    <p id="privacy" class="muted">The photo is sent to this API only; the service does not store or log images.
      Estimates are statistical guesses with wide error bars: never use them to make decisions about a person.</p>
  </form>

  <p id="status" role="status" aria-live="polite"></p>
  <div id="error" role="alert" hidden></div>

  <section id="result" aria-labelledby="result-title" hidden>
    <h2 id="result-title">Result</h2>
    <dl id="meta" class="meta">
      <div><dt>Route</dt><dd id="meta-route"></dd></div>
      <div><dt>Cached</dt><dd id="meta-cached"></dd></div>
      <div><dt>Server time</dt><dd id="meta-server"></dd></div>
      <div><dt>Round trip</dt><dd id="meta-roundtrip"></dd></div>
      <div><dt>Models</dt><dd id="meta-models"></dd></div>
      <div><dt>Rate limit</dt><dd id="meta-ratelimit"></dd></div>
    </dl>
    <label class="overlay-toggle"><input type="checkbox" id="show-maps" checked> Show score maps on the photo</label>
    <figure class="stage">
      <div class="stage-inner">
        <img id="photo-view" alt="The uploaded photo">
        <svg id="overlay" role="img" aria-label="Face boxes" preserveAspectRatio="none"></svg>
      </div>
      <figcaption class="muted">Boxes from the BlazeFace detector. Score maps show which regions of the aligned face pushed the estimate (bright = more); over the photo they are placed on the box, so they line up only roughly.</figcaption>
    </figure>
    <ol id="faces" class="faces"></ol>
    <details class="raw">
      <summary>Raw JSON answer</summary>
      <pre id="raw-json" tabindex="0"></pre>
    </details>
  </section>
</main>
</body>
</html>
`;
