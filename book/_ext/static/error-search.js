/* Site search for pasted error messages (book/_ext/error_index.py).
 *
 * Sphinx's searchtools.js uses a splitQuery defined before it, if there is one. This is its
 * own splitter (words of letters, digits and "_"), which also drops the tokens that differ
 * in every copy of a message: shapes like "64x128" and addresses like "0x7f3a". Sphinx
 * already ignores plain numbers. So "mat1 and mat2 shapes cannot be multiplied (64x128 and
 * 256x10)" finds the page "Error messages, A to Z", whose entry shows (NxN and NxN).
 */
var splitQuery = (query) =>
  query
    .split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu)
    .filter((term) => term)
    .filter((term) => !/^\d+x\d+$/i.test(term) && !/^0x[0-9a-f]+$/i.test(term));
