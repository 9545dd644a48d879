// Placeholder: the parser owner replaces this with the full grammar.
grammar Tollgate;
program : EOF ;
WS : [ \t\r\n]+ -> skip ;
