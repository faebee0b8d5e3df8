/** Debian's Chromium (CHROMIUM_PATH overrides). */
export declare const chromiumPath: string;
/** Launch flags (headless is set by the caller). */
export declare const chromiumArgs: string[];
