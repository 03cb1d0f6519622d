// A file's size in the reader's language: "820 bytes", "12.5 kB", "3,2 MB".
import { formatNumber, t } from "./i18n.js";

export function formatSize(bytes) {
  const units = [["gigabyte", 1e9], ["megabyte", 1e6], ["kilobyte", 1e3]];
  for (const [unit, size] of units) {
    if (bytes >= size) return formatNumber(bytes / size, { style: "unit", unit, maximumFractionDigits: 1 });
  }
  return t("chat.file.bytes", { n: bytes });
}
