/**
 * Vite config for the dashboard. Root is this folder; the build lands in
 * dashboard/dist, which the SQM server serves (server/routes/dashboard.ts).
 * `npm run dev:dashboard` proxies /api to a running SQM (SQM_URL, default :8080).
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Each view is its own chunk (dynamic imports in App.svelte); ECharts sits in one shared chunk,
    // loaded only by the views that draw charts. Its ~550 kB (about 180 kB gzipped) is the line chart
    // with its components, imported per part; bench/dashboard.ts reports the sizes.
    reportCompressedSize: false,
    chunkSizeWarningLimit: 650,
    rolldownOptions: {
      output: {
        codeSplitting: { groups: [{ name: 'echarts', test: /node_modules[\\/](echarts|zrender)[\\/]/ }] },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: process.env.SQM_URL ?? 'http://127.0.0.1:8080', ws: true, changeOrigin: false },
    },
  },
});
