-- pandoc filter for the man pages (packaging/build_manpages.sh): a table becomes a
-- definition list, its first column the term. tbl cannot fit the docs' wide tables (long
-- cells, code that cannot break) in 80 columns, and man warns about each.
local stringify = pandoc.utils.stringify

-- In a table cell, Markdown writes `|` in code as `\|` (GitHub shows `|`): so do the pages.
function unescape_pipes(blocks)
  local div = pandoc.walk_block(pandoc.Div(blocks), {
    Code = function(c)
      c.text = c.text:gsub("\\|", "|")
      return c
    end,
  })
  return div.content
end

function Table(tbl)
  local head = {}
  if tbl.head and tbl.head.rows and #tbl.head.rows > 0 then
    for i, cell in ipairs(tbl.head.rows[1].cells) do
      head[i] = stringify(cell.contents)
    end
  end
  local items = {}
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      local cells = row.cells
      local term = pandoc.utils.blocks_to_inlines(unescape_pipes(cells[1].contents))
      local definition = {}
      for i = 2, #cells do
        local inlines = pandoc.utils.blocks_to_inlines(unescape_pipes(cells[i].contents))
        if #cells > 2 and head[i] and head[i] ~= "" then
          local labelled = pandoc.List({pandoc.Emph({pandoc.Str(head[i] .. ":")}), pandoc.Space()})
          labelled:extend(inlines)
          inlines = labelled
        end
        table.insert(definition, pandoc.Para(inlines))
      end
      table.insert(items, {term, {definition}})
    end
  end
  return pandoc.DefinitionList(items)
end
