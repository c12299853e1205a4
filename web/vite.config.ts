import { defineConfig } from 'vite';

// Built by `npm run build` (`vite build web`) into dist/web, which hbd serves at `/`.
export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: '../dist/web',
    // dist/web is outside this folder: without this Vite would leave stale bundles behind.
    emptyOutDir: true,
    target: 'es2022',
    // Every browser that runs ES2022 has modulepreload; the polyfill would only add bytes.
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
