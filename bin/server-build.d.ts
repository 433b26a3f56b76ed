// Types for server-build.js, which bin/rawrxd.js runs as plain JavaScript before any build exists.
export declare const buildStampName: string;
export declare function newestMtimeMs(path: string): number;
export declare function isServerBuildCurrent(root: string): boolean;
