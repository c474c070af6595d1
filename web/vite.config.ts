import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The shell (login, layout, router, i18n, api client) is the entry chunk;
// every screen is a lazy chunk, so the journey builder (@xyflow/react) and
// the charts (uPlot) load only when opened.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '^/t/': 'http://127.0.0.1:8080' },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
