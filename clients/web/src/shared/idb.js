// A minimal IndexedDB key-value store. Only sealed bytes are ever written here: the worker's
// vault, or a client's vaults (one-to-one, group) when they chose "remember this device".
function openDb(name) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore("kv");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(name, mode, action) {
  const db = await openDb(name);
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction("kv", mode);
      const request = action(tx.objectStore("kv"));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export const idbGet = (db, key) => run(db, "readonly", (store) => store.get(key));
export const idbPut = (db, key, value) => run(db, "readwrite", (store) => store.put(value, key));

// Deletes one key; when nothing else is left in the database, the database goes too, so a
// device that forgot its last remembered thing holds no trace of ever having had one.
export async function idbForget(name, key) {
  const left = await run(name, "readwrite", (store) => {
    store.delete(key);
    return store.count();
  });
  if (left === 0) await idbDrop(name);
}

export function idbDrop(name) {
  return new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}

// Reads a key without creating the database as a side effect, so a page that only looks
// for remembered state leaves no trace when there is none.
export async function idbPeek(name, key) {
  if (typeof indexedDB.databases === "function") {
    const all = await indexedDB.databases();
    if (!all.some((db) => db.name === name)) return undefined;
    return idbGet(name, key);
  }
  const value = await idbGet(name, key);
  if (value === undefined) await idbDrop(name);
  return value;
}
