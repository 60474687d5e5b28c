// app.js: fetches data.json and shows when the page was served.
fetch("data.json")
	.then((r) => r.json())
	.then((d) => {
		const p = document.createElement("p");
		p.textContent = `${d.name}: ${d.description}`;
		document.body.appendChild(p);
	});
