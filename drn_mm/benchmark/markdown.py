"""The one markdown-table writer of the benchmark's reports."""
from typing import List, Sequence

__all__ = ['markdown_table']


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    """Lines of a markdown table. A row shorter than the header (a measurement that did not run:
    its status in place of the numbers) is padded with empty cells."""
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for cells in rows:
        if len(cells) > len(header):
            raise ValueError(f'a row of {len(cells)} cells for {len(header)} columns: {cells}')
        lines.append('| ' + ' | '.join(list(cells) + [''] * (len(header) - len(cells))) + ' |')
    return lines
