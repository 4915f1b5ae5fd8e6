-- pandoc filter: a manual page from a document of docs/ (make man).
-- The document's title (its only level-1 heading) gives way to NAME
-- ("NAME - SUMMARY" from the metadata fields `name` and `summary`) and
-- DESCRIPTION (the text before the first section); the sections move one
-- level up (## -> .SH, ### -> .SS, deeper ones stay .SS); links to other
-- documents keep their text only (the pages name them under SEE ALSO);
-- SEE ALSO comes from the metadata field `seealso`.
local name, summary, seealso

local function meta_text(v)
  if v == nil then return nil end
  return pandoc.utils.stringify(v)
end

function Meta(m)
  name = meta_text(m.name)
  summary = meta_text(m.summary)
  seealso = meta_text(m.seealso)
end

-- a table of four or more columns does not fit 80 columns, nor one of
-- three whose cells hold a word (a path, a code span) wider than a third of
-- the page: one entry per row instead, its first cell the term, "HEADER:
-- CELL" for the others
local function cell_inlines(blocks)
  local out = {}
  for _, b in ipairs(blocks) do
    if b.content then
      for _, i in ipairs(b.content) do table.insert(out, i) end
    end
  end
  return out
end

-- the longest unbreakable word of a cell's inlines
local function longest_word(blocks)
  local n = 0
  for _, i in ipairs(cell_inlines(blocks)) do
    for w in pandoc.utils.stringify(i):gmatch("%S+") do
      if #w > n then n = #w end
    end
  end
  return n
end

local function too_wide(simple)
  if #simple.headers >= 4 then return true end
  if #simple.headers < 3 then return false end
  for _, row in ipairs(simple.rows) do
    for _, cell in ipairs(row) do
      if longest_word(cell) > 20 then return true end
    end
  end
  return false
end

function Table(t)
  local simple = pandoc.utils.to_simple_table(t)
  if not too_wide(simple) then return nil end
  local items = {}
  for _, row in ipairs(simple.rows) do
    local defs = {}
    for j = 2, #row do
      local inl = cell_inlines(row[j])
      if #inl > 0 then
        local para = {pandoc.Strong(cell_inlines(simple.headers[j])), pandoc.Str(":"), pandoc.Space()}
        for _, i in ipairs(inl) do table.insert(para, i) end
        table.insert(defs, pandoc.Para(para))
      end
    end
    table.insert(items, {cell_inlines(row[1]), {defs}})
  end
  return pandoc.DefinitionList(items)
end

function Link(l)
  if not l.target:match("^https?:") then
    return l.content
  end
end

function Pandoc(doc)
  local blocks = {}
  table.insert(blocks, pandoc.Header(1, "NAME"))
  table.insert(blocks, pandoc.Para({pandoc.Str(name), pandoc.Space(), pandoc.Str("-"),
    pandoc.Space(), pandoc.Str(summary)}))
  local described = false
  for _, b in ipairs(doc.blocks) do
    if b.t == "Header" then
      if b.level == 1 then
        -- the title: its words are in NAME
        table.insert(blocks, pandoc.Header(1, "DESCRIPTION"))
        described = true
      else
        b.level = math.min(b.level - 1, 2)
        table.insert(blocks, b)
      end
    else
      if not described then
        table.insert(blocks, pandoc.Header(1, "DESCRIPTION"))
        described = true
      end
      table.insert(blocks, b)
    end
  end
  if seealso then
    table.insert(blocks, pandoc.Header(1, "SEE ALSO"))
    table.insert(blocks, pandoc.Para(pandoc.Str(seealso)))
  end
  return pandoc.Pandoc(blocks, doc.meta)
end
