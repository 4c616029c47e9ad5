// The console is served by the broker itself (broker/src/admin/static_files.cpp) from dist/:
// index.html at /, hashed files under /assets/. No CDN: everything is bundled.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 200,
  },
  server: {
    // `npm run dev` against a broker on the default port.
    proxy: { '/api': 'http://127.0.0.1:15672' },
  },
});
