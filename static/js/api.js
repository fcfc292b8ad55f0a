// REST calls with the bearer token; failures become ApiError with the server's error code.

import { currentToken } from "./token.js";

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export async function request(method, path, body) {
  const headers = { Authorization: `Bearer ${currentToken() ?? ""}` };
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network_error", "The server could not be reached.");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data?.error ?? {};
    throw new ApiError(response.status, error.code ?? `http_${response.status}`,
      error.message ?? response.statusText, error);
  }
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body = {}) => request("POST", path, body);
export const patch = (path, body) => request("PATCH", path, body);
export const put = (path, body) => request("PUT", path, body);
export const del = (path) => request("DELETE", path);

/** Save what `path` answers as the file `filename` (a GET with the token, as a link cannot send it). */
export async function download(path, filename) {
  let response;
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${currentToken() ?? ""}` }, cache: "no-store" });
  } catch {
    throw new ApiError(0, "network_error", "The server could not be reached.");
  }
  if (!response.ok) {
    const error = (await response.json().catch(() => null))?.error ?? {};
    throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? response.statusText);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** `read` made one at a time: asked while it runs, the call gets the running one's promise and
 * one more pass runs after it (so the last ask is always answered by a read that began after it). */
export function oneAtATime(read) {
  let running = null;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await read();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

/** A QR code of `data` as an object URL (POSTed, so a token in it stays out of the access log). */
export async function qrCode(data) {
  const response = await fetch("/qr.svg", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ data }),
  });
  if (!response.ok) throw new ApiError(response.status, "qr_failed", "The QR code could not be made.");
  return URL.createObjectURL(await response.blob());
}
