import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API to a Tarn on 127.0.0.1:8000 (`make run`).
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: {
    host: "127.0.0.1",
    proxy: { "/api": "http://127.0.0.1:8000", "/logout": "http://127.0.0.1:8000" },
  },
});
