import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "test-output/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", setTimeout: "readonly", clearTimeout: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
      eqeqeq: ["error", "always"],
    },
  },
  {
    // The Control UI: plain ES modules shipped to the browser as they are.
    files: ["src/ui/static/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: {
        window: "readonly",
        document: "readonly",
        navigator: "readonly",
        location: "readonly",
        history: "readonly",
        sessionStorage: "readonly",
        indexedDB: "readonly",
        crypto: "readonly",
        fetch: "readonly",
        WebSocket: "readonly",
        TextEncoder: "readonly",
        URLSearchParams: "readonly",
        CSS: "readonly",
        Node: "readonly",
        btoa: "readonly",
        setInterval: "readonly",
        HTMLInputElement: "readonly",
        queueMicrotask: "readonly",
      },
    },
  },
  {
    // Policy stays pure: no I/O modules, no store, no gateway.
    files: ["src/policy/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            "node:*",
            "../store/*",
            "../gateway/*",
            "../cli/*",
            "../client/*",
            "ws",
            "better-sqlite3",
          ],
        },
      ],
    },
  },
);
