// Svelte compiler options for the dashboard: runes everywhere (Svelte 5).
export default {
  compilerOptions: { runes: true },
};
