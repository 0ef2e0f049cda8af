// The query page of rkg serve: choosing a stored question puts its SPARQL in the text area.
// Everything else (running the query, the results table) works without this script.
(function () {
  "use strict";
  var data = document.getElementById("rkg-examples");
  var select = document.getElementById("example");
  var area = document.getElementById("query");
  if (!data || !select || !area) return;
  var examples = JSON.parse(data.textContent);
  examples.forEach(function (ex, i) {
    var opt = document.createElement("option");
    opt.value = String(i);
    opt.textContent = ex.title + " (" + ex.name + ")";
    select.appendChild(opt);
  });
  select.addEventListener("change", function () {
    var ex = examples[Number(select.value)];
    if (ex) area.value = ex.text;
  });
})();
