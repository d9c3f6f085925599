// What the window remembers between events: the view, the selection, the search, and what
// each list has shown (to mark what is new).

export const state = {
  view: "handoffs",
  handoffId: null,
  memoryKey: null,
  query: "",
  seenHandoffs: new Map(),
  seenKeys: new Map(),
  health: null,
  firstLoad: { handoffs: true, memory: true },
  firstRunFor: null,
  firstRunDone: false,
};
