import TTRPC
