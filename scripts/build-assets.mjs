// Builds the portal's static files from npm packages into build/static:
// - app.css (GOV.UK Frontend rebranded, compiled with Sass) and app-rtl.css (rtlcss) for Arabic;
// - govuk-frontend.min.js, htmx.min.js (major version pinned in package.json), our small scripts;
// - the DejaVu Sans fonts (Latin and Arabic) the PDF receipts are drawn with, into build/fonts;
// - each file fingerprinted (name.<hash>.ext), pre-compressed (.gz and .br), and listed in
//   manifest.json, which the portal reads to write URLs and serve files with long cache lifetimes.
// Images come first: every image the stylesheet names (GOV.UK Frontend's included) is resolved
// by `fd-image-url` to a file written here, and the build fails on one it does not write.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import rtlcss from "rtlcss";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build", "static");
const modules = join(root, "node_modules");

// GOV.UK Frontend's images that we replace with our own (the crest is the Crown's, not ours).
const IMAGES = { "govuk-crest.svg": "logo.svg" };

function compileCss() {
  const result = sass.compile(join(root, "assets", "scss", "app.scss"), {
    style: "compressed",
    quietDeps: true,
    silenceDeprecations: ["import"],
    functions: {
      "fd-image-url($filename)": ([filename]) => {
        const asked = filename.assertString("filename").text;
        const hashed = manifest[IMAGES[asked] ?? asked];
        if (!hashed) throw new Error(`the stylesheet names the image ${asked}, which the build does not produce`);
        return new sass.SassString(`url("/static/${hashed}")`, { quotes: false });
      },
    },
  });
  return result.css;
}

const manifest = {};
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

function emit(name, content) {
  const body = Buffer.from(content);
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  const ext = extname(name);
  const hashed = `${basename(name, ext)}.${hash}${ext}`;
  writeFileSync(join(out, hashed), body);
  writeFileSync(join(out, `${hashed}.gz`), gzipSync(body, { level: 9 }));
  writeFileSync(
    join(out, `${hashed}.br`),
    brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
  manifest[name] = hashed;
}

for (const name of ["logo.svg", "favicon.svg"]) {
  emit(name, readFileSync(join(root, "assets", "images", name), "utf8"));
}
const css = compileCss();
const sources = {
  "app.css": css,
  "app-rtl.css": rtlcss.process(css),
  "govuk-frontend.min.js": readFileSync(join(modules, "govuk-frontend", "dist", "govuk", "govuk-frontend.min.js"), "utf8"),
  "htmx.min.js": readFileSync(join(modules, "htmx.org", "dist", "htmx.min.js"), "utf8"),
  "init.js": readFileSync(join(root, "assets", "js", "init.js"), "utf8"),
};
// app.js imports govuk-frontend by its fingerprinted name, so it is written after the others.
for (const [name, content] of Object.entries(sources)) emit(name, content);
const appJs = readFileSync(join(root, "assets", "js", "app.js"), "utf8").replace(
  "./govuk-frontend.min.js",
  `./${manifest["govuk-frontend.min.js"]}`,
);
emit("app.js", appJs);
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");

const fonts = join(root, "build", "fonts");
mkdirSync(fonts, { recursive: true });
for (const name of ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"]) {
  copyFileSync(join(modules, "dejavu-fonts-ttf", "ttf", name), join(fonts, name));
}
console.log(`built ${Object.keys(manifest).length} assets into build/static`);
